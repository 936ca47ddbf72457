// Package auth verifies who a request acts for: access tokens (Ed25519 JWTs
// whose public keys the user service publishes as a JWKS) and the identity
// metadata that trusted services propagate on a user's behalf.
package auth
