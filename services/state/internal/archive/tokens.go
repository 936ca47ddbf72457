package archive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Refresh tokens are sessions a person expects to survive a restart, so
// their one record is here, not in Redis. Each operation is a single
// document's atomic update (FerretDB has no transactions), which is all
// rotation needs: consuming a token flips its used flag and returns the
// flag it had.

// Token errors; the gRPC layer maps them.
var (
	// ErrTokenExists: a token with this id is stored already.
	ErrTokenExists = errors.New("refresh token exists")
	// ErrTokenNotFound: unknown, expired, or of a revoked family.
	ErrTokenNotFound = errors.New("refresh token not found")
	// ErrFamilyRevoked: the family was revoked; it takes no new tokens.
	ErrFamilyRevoked = errors.New("token family revoked")
)

type tokenDoc struct {
	ID        string    `bson:"_id"` // hash of the token
	UserID    string    `bson:"user_id"`
	FamilyID  string    `bson:"family_id"`
	Used      bool      `bson:"used"`
	ExpiresAt time.Time `bson:"expires_at"`
}

type familyDoc struct {
	ID        string    `bson:"_id"`
	RevokedAt time.Time `bson:"revoked_at"`
}

// StoreToken records a refresh token (by hash) until expires.
func (a *Archive) StoreToken(ctx context.Context, tokenID, userID, familyID string, expires time.Time) error {
	if revoked, err := a.familyRevoked(ctx, familyID); err != nil {
		return err
	} else if revoked {
		return fmt.Errorf("family %q: %w", familyID, ErrFamilyRevoked)
	}
	_, err := a.tokens.InsertOne(ctx, tokenDoc{ID: tokenID, UserID: userID, FamilyID: familyID, ExpiresAt: expires.UTC()})
	if mongo.IsDuplicateKeyError(err) {
		return ErrTokenExists
	}
	if err != nil {
		return fmt.Errorf("store refresh token: %w", err)
	}
	return nil
}

// ConsumeToken marks the token used and returns its record; Reused says it
// had been used before (the caller revokes the family). An unknown or
// expired token, or one of a revoked family, is ErrTokenNotFound.
func (a *Archive) ConsumeToken(ctx context.Context, tokenID string, now time.Time) (*pb.RefreshTokenRecord, error) {
	var before tokenDoc
	err := a.tokens.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: tokenID}, {Key: "expires_at", Value: bson.D{{Key: "$gt", Value: now.UTC()}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "used", Value: true}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.Before),
	).Decode(&before)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrTokenNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("consume refresh token: %w", err)
	}
	if revoked, err := a.familyRevoked(ctx, before.FamilyID); err != nil {
		return nil, err
	} else if revoked {
		return nil, ErrTokenNotFound
	}
	return &pb.RefreshTokenRecord{UserId: before.UserID, FamilyId: before.FamilyID, Reused: before.Used}, nil
}

// RevokeFamily marks the family revoked (so late stores are refused) and
// deletes its tokens.
func (a *Archive) RevokeFamily(ctx context.Context, familyID string, now time.Time) error {
	_, err := a.families.ReplaceOne(ctx, bson.D{{Key: "_id", Value: familyID}},
		familyDoc{ID: familyID, RevokedAt: now.UTC()}, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("revoke token family %q: %w", familyID, err)
	}
	if _, err := a.tokens.DeleteMany(ctx, bson.D{{Key: "family_id", Value: familyID}}); err != nil {
		return fmt.Errorf("delete tokens of family %q: %w", familyID, err)
	}
	return nil
}

func (a *Archive) familyRevoked(ctx context.Context, familyID string) (bool, error) {
	n, err := a.families.CountDocuments(ctx, bson.D{{Key: "_id", Value: familyID}}, options.Count().SetLimit(1))
	if err != nil {
		return false, fmt.Errorf("check token family %q: %w", familyID, err)
	}
	return n > 0, nil
}

// SweepTokens deletes expired tokens and revoked-family markers older than
// keepRevoked (MongoDB TTL indexes would do it, but FerretDB has none).
func (a *Archive) SweepTokens(ctx context.Context, now time.Time, keepRevoked time.Duration) error {
	if _, err := a.tokens.DeleteMany(ctx, bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lte", Value: now.UTC()}}}}); err != nil {
		return fmt.Errorf("sweep expired refresh tokens: %w", err)
	}
	old := now.Add(-keepRevoked).UTC()
	if _, err := a.families.DeleteMany(ctx, bson.D{{Key: "revoked_at", Value: bson.D{{Key: "$lte", Value: old}}}}); err != nil {
		return fmt.Errorf("sweep revoked token families: %w", err)
	}
	return nil
}
