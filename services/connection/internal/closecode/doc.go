// Package closecode is the one catalogue of WebSocket close codes the edge
// uses. Each code is a typed value implementing error, so code deep inside a
// connection simply returns closecode.Slow and the connection closes with it.
//
// Ranges: 1000-1015 are the RFC 6455 codes (1009: frame too big); 4000-4099
// are this protocol's own: 4000 server closing, 4001 protocol violation,
// 4002 note quota, 4003 slow client, 4004 timeout, 4005 replaced, 4008 banned.
package closecode
