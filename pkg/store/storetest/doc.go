// Package storetest gives tests a Redis client and a MongoDB database:
// the real servers when REDIS_URL / MONGODB_URI are set, embedded ones
// otherwise. Import it only from tests.
//
// Many test packages run in parallel against one real Redis in CI, so every
// test must put Prefix(t) in front of its keys, channels and stream names;
// Mongo(t) already hands each test its own database.
package storetest
