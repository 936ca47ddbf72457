package account

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/pianorhythm/server/pkg/store/storetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestMain(m *testing.M) { os.Exit(storetest.Wrap(m).Run()) }

func newStore(t *testing.T) *Store {
	t.Helper()
	s := NewStore(storetest.Mongo(t))
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreUniqueAndUpdate(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	a := &Account{ID: "a1", Username: "Alice", DisplayName: "Alice", Roles: []int32{2}, CreatedAt: now}
	if err := s.Insert(ctx, a); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		acc  *Account
		want error
	}{
		{"same username other case", &Account{ID: "a2", Username: "ALICE", DisplayName: "x"}, ErrTaken},
		{"no username", &Account{ID: "a3", DisplayName: "y", DiscordID: "d1"}, nil},
		{"second without username", &Account{ID: "a4", DisplayName: "z"}, nil},
		{"same discord", &Account{ID: "a5", DisplayName: "w", DiscordID: "d1"}, ErrTaken},
		{"same id", &Account{ID: "a1", Username: "other", DisplayName: "v"}, ErrTaken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Insert(ctx, tt.acc); !errors.Is(err, tt.want) {
				t.Fatalf("Insert = %v, want %v", err, tt.want)
			}
		})
	}
	got, err := s.ByUsername(ctx, "aLiCe")
	if err != nil || got.ID != "a1" || !got.CreatedAt.Equal(now) {
		t.Fatalf("ByUsername = %+v, %v", got, err)
	}
	if got, err := s.ByDiscordID(ctx, "d1"); err != nil || got.ID != "a3" {
		t.Fatalf("ByDiscordID = %+v, %v", got, err)
	}
	if _, err := s.ByID(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ByID(nope) = %v", err)
	}
	up, err := s.Update(ctx, "a1", bson.D{{Key: "$addToSet", Value: bson.D{{Key: "roles", Value: int32(5)}}}})
	if err != nil || len(up.Roles) != 2 {
		t.Fatalf("add role = %+v, %v", up, err)
	}
	up, err = s.Update(ctx, "a1", bson.D{{Key: "$pull", Value: bson.D{{Key: "roles", Value: int32(5)}}}})
	if err != nil || len(up.Roles) != 1 {
		t.Fatalf("pull role = %+v, %v", up, err)
	}
	if _, err := s.Update(ctx, "a3", bson.D{{Key: "$set", Value: bson.D{{Key: "discord_key", Value: "#a1"}, {Key: "username_key", Value: "alice"}}}}); !errors.Is(err, ErrTaken) {
		t.Fatalf("colliding update = %v", err)
	}
	if _, err := s.Update(ctx, "zz", bson.D{{Key: "$set", Value: bson.D{{Key: "color", Value: "#000000"}}}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update missing = %v", err)
	}
	list, err := s.ByIDs(ctx, []string{"a1", "a3", "missing"})
	if err != nil || len(list) != 2 {
		t.Fatalf("ByIDs = %d, %v", len(list), err)
	}
}

func TestStoreSearchPaging(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for i := range 7 {
		must(t, s.Insert(ctx, &Account{ID: fmt.Sprintf("p%d", i), Username: fmt.Sprintf("user%d", i), DisplayName: fmt.Sprintf("Pianist %d", i)}))
	}
	must(t, s.Insert(ctx, &Account{ID: "x1", Username: "pepper", DisplayName: "Salt"}))  // matches by username
	must(t, s.Insert(ctx, &Account{ID: "x2", Username: "zed", DisplayName: "Zed"}))      // no match
	must(t, s.Insert(ctx, &Account{ID: "x3", Username: "dot", DisplayName: "P.I. (x)"})) // regex chars
	var all []string
	tok := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		got, next, err := s.Search(ctx, "P", tok, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range got {
			all = append(all, a.ID)
		}
		if next == "" {
			break
		}
		tok = next
	}
	want := []string{"x3", "p0", "p1", "p2", "p3", "p4", "p5", "p6", "x1"}
	if fmt.Sprint(all) != fmt.Sprint(want) {
		t.Fatalf("search = %v, want %v", all, want)
	}
	if got, _, err := s.Search(ctx, "p.i. (", "", 10); err != nil || len(got) != 1 || got[0].ID != "x3" {
		t.Fatalf("regex-quoted search = %v, %v", got, err)
	}
	if _, _, err := s.Search(ctx, "p", "!!bad", 10); !errors.Is(err, ErrBadPageToken) {
		t.Fatalf("bad token err = %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
