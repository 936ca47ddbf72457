package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // FerretDB's own SQLite driver, registered as "sqlite"
)

// FerretDB 1.24's SQLite backend looks a document up by _id with the
// expression _ferretdb_sjson->'$._id' (a find, update, replace or delete
// whose filter is exactly {_id: v}), but the unique index it creates for
// _id is on _ferretdb_sjson->"_id". SQLite matches an index to a query by
// the expression's text, so it never takes that index: every such lookup
// reads and parses the whole table (an update of one guest 2.4 ms at
// 1,000 documents, 42 ms at 10,000). The id index keeper gives each
// collection's table an index on the expression the lookups use.
//
// It runs in the process that owns the SQLite files (the embedded server),
// once before the server is used and then every idIndexInterval, for the
// collections created since (a collection is made by its first write).

// idIndexSuffix names the keeper's index: <table>__id_path.
const idIndexSuffix = "__id_path"

// idIndexInterval is how often the keeper looks for new collections.
const idIndexInterval = time.Second

// ensureIDIndexes adds the missing _id path indexes to every database
// file in dir.
func ensureIDIndexes(ctx context.Context, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.sqlite"))
	if err != nil {
		return fmt.Errorf("list database files in %s: %w", dir, err)
	}
	var errs []error
	for _, f := range files {
		errs = append(errs, ensureIDIndexesIn(ctx, f))
	}
	return errors.Join(errs...)
}

func ensureIDIndexesIn(ctx context.Context, file string) error {
	// mode=rw: a database dropped since the Glob is not created again.
	// busy_timeout as FerretDB's own: an index build waits for its writers.
	db, err := sql.Open("sqlite", "file:"+file+"?mode=rw&_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("open %s: %w", file, err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT c.table_name FROM _ferretdb_collections c
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = c.table_name || ?)`, idIndexSuffix)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil // a database FerretDB has not set up yet
		}
		return fmt.Errorf("list collections of %s: %w", file, err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return fmt.Errorf("list collections of %s: %w", file, err)
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list collections of %s: %w", file, err)
	}
	for _, t := range tables {
		// Table names are FerretDB's own (collection name and a hash);
		// quoted as identifiers all the same.
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (_ferretdb_sjson->'$._id')`,
			quoteIdent(t+idIndexSuffix), quoteIdent(t))
		if _, err := db.ExecContext(ctx, q); err != nil {
			if strings.Contains(err.Error(), "no such table") {
				continue // dropped meanwhile
			}
			return fmt.Errorf("index _id of %s in %s: %w", t, file, err)
		}
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// keepIDIndexes runs ensureIDIndexes every idIndexInterval until ctx ends.
// A failure is logged once until a later pass succeeds: the lookups are
// then only slower, never wrong.
func keepIDIndexes(ctx context.Context, dir string, log *slog.Logger) {
	t := time.NewTicker(idIndexInterval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := ensureIDIndexes(ctx, dir)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			log.Warn("embedded mongodb: add _id path indexes", "err", err)
			failing = true
		case err == nil:
			failing = false
		}
	}
}
