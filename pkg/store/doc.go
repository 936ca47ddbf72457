// Package store opens the two storage backends every service uses: Redis
// (go-redis v9) and MongoDB (mongo-driver v2).
//
// Both have an embedded default so the whole server runs with nothing
// installed: with no Redis URL, an in-process miniredis whose clock is
// advanced on a ticker (otherwise TTLs never expire); with no MongoDB URI, an
// in-process FerretDB v1 on SQLite that speaks the MongoDB wire protocol on a
// loopback port. Callers use the same *redis.Client and *mongo.Database either
// way. See README.md for what the embedded servers do not support.
//
// Tests use the helpers in package storetest.
package store
