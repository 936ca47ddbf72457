package account

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/pianorhythm/server/pkg/store"
)

var (
	// ErrNotFound: no such account.
	ErrNotFound = errors.New("account not found")
	// ErrTaken: the username (or Discord account) belongs to another account.
	ErrTaken = errors.New("already taken")
	// ErrBadPageToken: a search page token that Search did not make.
	ErrBadPageToken = errors.New("bad page token")
)

// Collection is the MongoDB collection of accounts.
const Collection = "users"

// Store reads and writes accounts. It is safe for concurrent use.
type Store struct {
	c *mongo.Collection
}

// NewStore returns a Store on db's users collection.
func NewStore(db *mongo.Database) *Store { return &Store{c: db.Collection(Collection)} }

// EnsureIndexes creates the unique username and Discord indexes and the
// search index; it is idempotent.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	err := store.EnsureIndexes(ctx, s.c,
		mongo.IndexModel{Keys: bson.D{{Key: "username_key", Value: 1}}, Options: options.Index().SetUnique(true).SetName("username_key_unique")},
		mongo.IndexModel{Keys: bson.D{{Key: "discord_key", Value: 1}}, Options: options.Index().SetUnique(true).SetName("discord_key_unique")},
		mongo.IndexModel{Keys: bson.D{{Key: "name_lower", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("name_lower_search")},
	)
	if err != nil {
		return fmt.Errorf("create user indexes: %w", err)
	}
	return nil
}

// Insert stores a new account; ErrTaken when its username or Discord id is
// in use.
func (s *Store) Insert(ctx context.Context, a *Account) error {
	a.Fill()
	if _, err := s.c.InsertOne(ctx, a); err != nil {
		if isDuplicate(err) {
			return ErrTaken
		}
		return fmt.Errorf("insert account: %w", err)
	}
	return nil
}

// ByID returns the account id.
func (s *Store) ByID(ctx context.Context, id string) (*Account, error) {
	return s.one(ctx, bson.D{{Key: "_id", Value: id}})
}

// ByUsername returns the account whose username is username, ignoring case.
func (s *Store) ByUsername(ctx context.Context, username string) (*Account, error) {
	return s.one(ctx, bson.D{{Key: "username_key", Value: UsernameKey(username)}})
}

// ByDiscordID returns the account linked to a Discord user.
func (s *Store) ByDiscordID(ctx context.Context, discordID string) (*Account, error) {
	return s.one(ctx, bson.D{{Key: "discord_key", Value: discordID}})
}

func (s *Store) one(ctx context.Context, filter bson.D) (*Account, error) {
	var a Account
	if err := s.c.FindOne(ctx, filter).Decode(&a); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("find account: %w", err)
	}
	return &a, nil
}

// ByIDs returns the accounts among ids that exist, in no particular order.
func (s *Store) ByIDs(ctx context.Context, ids []string) ([]*Account, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cur, err := s.c.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, fmt.Errorf("find accounts: %w", err)
	}
	var out []*Account
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read accounts: %w", err)
	}
	return out, nil
}

// Update applies a MongoDB update document to account id and returns the
// account after it; ErrNotFound when there is no such account, ErrTaken
// when the update collides with a unique key.
func (s *Store) Update(ctx context.Context, id string, update bson.D) (*Account, error) {
	var a Account
	err := s.c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}}, update,
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&a)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return nil, ErrNotFound
	case isDuplicate(err):
		return nil, ErrTaken
	case err != nil:
		return nil, fmt.Errorf("update account: %w", err)
	}
	return &a, nil
}

// searchCursor is the position after the last result of a page.
type searchCursor struct {
	Name string `json:"n"`
	ID   string `json:"i"`
}

// Search returns up to limit accounts whose display name or username
// starts with prefix (case-insensitive), ordered by lowercased display name
// then id, starting after pageToken; and the token of the next page, "" at
// the end.
func (s *Store) Search(ctx context.Context, prefix, pageToken string, limit int) ([]*Account, string, error) {
	p := "^" + regexp.QuoteMeta(strings.ToLower(prefix))
	match := bson.A{bson.D{{Key: "name_lower", Value: bson.D{{Key: "$regex", Value: p}}}}}
	if !strings.HasPrefix(prefix, "#") { // "#..." keys are placeholders, not names
		match = append(match, bson.D{{Key: "username_key", Value: bson.D{{Key: "$regex", Value: p}}}})
	}
	filter := bson.D{{Key: "$or", Value: match}}
	if pageToken != "" {
		c, err := decodeCursor(pageToken)
		if err != nil {
			return nil, "", err
		}
		filter = bson.D{{Key: "$and", Value: bson.A{filter, bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "name_lower", Value: bson.D{{Key: "$gt", Value: c.Name}}}},
			bson.D{{Key: "name_lower", Value: c.Name}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: c.ID}}}},
		}}}}}}
	}
	opts := options.Find().
		SetSort(bson.D{{Key: "name_lower", Value: 1}, {Key: "_id", Value: 1}}).
		SetLimit(int64(limit + 1)) // one more tells whether a next page exists
	cur, err := s.c.Find(ctx, filter, opts)
	if err != nil {
		return nil, "", fmt.Errorf("search accounts: %w", err)
	}
	var out []*Account
	if err := cur.All(ctx, &out); err != nil {
		return nil, "", fmt.Errorf("read search results: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[len(out)-1]
		next = encodeCursor(searchCursor{Name: last.NameLower, ID: last.ID})
	}
	return out, next, nil
}

func encodeCursor(c searchCursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(tok string) (searchCursor, error) {
	var c searchCursor
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || json.Unmarshal(b, &c) != nil || c.ID == "" {
		return c, ErrBadPageToken
	}
	return c, nil
}

// isDuplicate reports a unique index violation. FerretDB v1 reports one
// inside findAndModify as an InternalError carrying SQLite's message
// instead of code 11000, hence the second test.
func isDuplicate(err error) bool {
	return mongo.IsDuplicateKeyError(err) || err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
