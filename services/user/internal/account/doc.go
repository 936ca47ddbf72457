// Package account keeps registered accounts in MongoDB (collection
// "users") and turns them into the pb.User other services see.
//
// Guests are not stored here: they live only in the state service
// (SaveUser/GetUser), so a guest costs no MongoDB write and disappears
// when the state service lets it go.
package account
