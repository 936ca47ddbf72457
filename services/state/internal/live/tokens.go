package live

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// storeTokenScript: KEYS token, family, revoked; ARGV user, family, ttl ms.
var storeTokenScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[3]) == 1 then return 'REVOKED' end
if redis.call('EXISTS', KEYS[1]) == 1 then return 'EXISTS' end
redis.call('HSET', KEYS[1], 'user', ARGV[1], 'family', ARGV[2], 'used', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[2], KEYS[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return 'OK'
`)

// StoreToken records a refresh token (by hash) for ttl. Errors:
// ErrAlreadyExists, ErrRevoked (the family was revoked).
func (s *Store) StoreToken(ctx context.Context, tokenID, userID, familyID string, ttl time.Duration) error {
	res, err := storeTokenScript.Run(ctx, s.rdb,
		[]string{s.k.Token(tokenID), s.k.TokenFamily(familyID), s.k.RevokedFamily(familyID)},
		userID, familyID, ttl.Milliseconds()).Text()
	if err != nil {
		return fmt.Errorf("store refresh token: %w", err)
	}
	switch res {
	case "REVOKED":
		return fmt.Errorf("family %q: %w", familyID, ErrRevoked)
	case "EXISTS":
		return fmt.Errorf("refresh token: %w", ErrAlreadyExists)
	}
	return nil
}

// consumeTokenScript marks a token used and returns {user, family, was
// used}; nothing for an unknown token or a revoked family.
// KEYS token; ARGV prefix.
var consumeTokenScript = redis.NewScript(`
local t = redis.call('HMGET', KEYS[1], 'user', 'family', 'used')
if not t[1] then return {} end
if redis.call('EXISTS', ARGV[1] .. 'rtrevoked:' .. t[2]) == 1 then return {} end
redis.call('HSET', KEYS[1], 'used', '1')
return {t[1], t[2], t[3]}
`)

// ConsumeToken marks the token used. A second consume reports Reused; an
// unknown or expired token, or one of a revoked family, is ErrNotFound.
func (s *Store) ConsumeToken(ctx context.Context, tokenID string) (*pb.RefreshTokenRecord, error) {
	res, err := consumeTokenScript.Run(ctx, s.rdb, []string{s.k.Token(tokenID)}, s.k.Prefix).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("consume refresh token: %w", err)
	}
	if len(res) < 3 {
		return nil, fmt.Errorf("refresh token: %w", ErrNotFound)
	}
	return &pb.RefreshTokenRecord{UserId: res[0], FamilyId: res[1], Reused: res[2] == "1"}, nil
}

// revokeScript: KEYS family, revoked; ARGV marker ttl ms.
var revokeScript = redis.NewScript(`
local toks = redis.call('SMEMBERS', KEYS[1])
for _, k in ipairs(toks) do redis.call('DEL', k) end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return #toks
`)

// RevokeFamily deletes every token of the family and marks it revoked for
// markerTTL (longer than any token lives), so late stores are refused.
func (s *Store) RevokeFamily(ctx context.Context, familyID string, markerTTL time.Duration) error {
	err := revokeScript.Run(ctx, s.rdb, []string{s.k.TokenFamily(familyID), s.k.RevokedFamily(familyID)},
		markerTTL.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("revoke token family %q: %w", familyID, err)
	}
	return nil
}
