// Package quota is the note quota of one connection: points that refill on
// a fixed interval, one point per note event, and the flood detection that
// tells the connection to close with 4002. It is not safe for concurrent
// use: the connection actor owns it. Time is passed in, so tests need no
// clock.
package quota
