package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// EnsureIndexes creates on c each index of models that the collection does
// not have yet, one createIndexes command per index, and is safe to call
// on every start.
//
// Why not one CreateMany: FerretDB 1.24 panics (and drops the connection)
// when a single createIndexes command names two or more indexes that
// already exist, which is what a second start sends. Listing first and
// creating one at a time never sends it such a batch, and costs a real
// MongoDB nothing that matters at start. An index is known by its name;
// a model without one gets the name MongoDB would give it (key_1_other_-1).
func EnsureIndexes(ctx context.Context, c *mongo.Collection, models ...mongo.IndexModel) error {
	existing, err := indexNames(ctx, c)
	if err != nil {
		return fmt.Errorf("list indexes of %s: %w", c.Name(), err)
	}
	for _, m := range models {
		name, err := indexName(m)
		if err != nil {
			return fmt.Errorf("index on %s: %w", c.Name(), err)
		}
		if existing[name] {
			continue
		}
		opts := m.Options
		if opts == nil {
			opts = options.Index()
		}
		m.Options = opts.SetName(name)
		if _, err := c.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("create index %s on %s: %w", name, c.Name(), err)
		}
		existing[name] = true
	}
	return nil
}

// indexNames returns the names of c's indexes; a collection that does not
// exist yet has none.
func indexNames(ctx context.Context, c *mongo.Collection) (map[string]bool, error) {
	specs, err := c.Indexes().ListSpecifications(ctx)
	if err != nil {
		var ce mongo.CommandError
		if errors.As(err, &ce) && ce.Code == namespaceNotFound {
			return map[string]bool{}, nil
		}
		return nil, err
	}
	names := make(map[string]bool, len(specs))
	for _, s := range specs {
		names[s.Name] = true
	}
	return names, nil
}

// namespaceNotFound is MongoDB's code for listIndexes on a collection
// that does not exist yet.
const namespaceNotFound = 26

// indexName is the model's own name, or the one MongoDB derives from its
// keys.
func indexName(m mongo.IndexModel) (string, error) {
	if m.Options != nil {
		var o options.IndexOptions
		for _, set := range m.Options.List() {
			if err := set(&o); err != nil {
				return "", err
			}
		}
		if o.Name != nil && *o.Name != "" {
			return *o.Name, nil
		}
	}
	keys, ok := m.Keys.(bson.D)
	if !ok {
		// A bson.M has no order, so its derived name is not stable.
		return "", fmt.Errorf("keys %v: give an ordered bson.D or a name", m.Keys)
	}
	parts := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		parts = append(parts, k.Key, fmt.Sprint(k.Value))
	}
	return strings.Join(parts, "_"), nil
}
