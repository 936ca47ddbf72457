// Package sendq is the bounded outgoing queue of one connection. Producers
// (room fan-out, the connection's own replies) push encoded frames without
// ever blocking; a single writer drains everything queued in one go and
// writes it in one loop iteration. The writer runs only while there is
// something to write: the push that finds none at work starts one, and it
// ends when the queue is empty, so an idle connection holds no goroutine
// for it. The queue is bounded by bytes: a push that does not fit is
// refused, and a queue that stays full for the slow timeout reports the
// client as slow, so one slow reader never slows its room.
package sendq
