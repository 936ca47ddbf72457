// Package fleet runs the six service programs of the repository as
// separate processes, the way an operator runs them, for tests that kill,
// restart and stop them: it builds the programs once per test binary,
// starts a redis-server of its own and one MongoDB-wire server (the
// embedded FerretDB of pkg/store in its own process), wires every program
// through the PR_* variables on free loopback ports, and offers kill -9,
// restart, SIGTERM and health waits per process, plus a WebSocket client
// speaking the JSON protocol (DESIGN section 4) that records every frame
// with the time it arrived.
//
// Every process writes its output to a file under the test's temporary
// directory (or $ARTIFACTS_DIR/fleet/<test> when set); the files' last
// lines are printed when a test fails, and every process is killed when the
// test ends, failed or not (and, should the test binary die, by the
// kernel: each child gets SIGKILL when its parent goes).
//
// The programs are built without the race detector (FLEET_RACE=1 turns it
// on): the services' code already runs under -race in their own packages'
// tests, and these tests measure timings (error latencies, recovery times,
// note gaps) of eleven processes on a shared two-core machine, which the
// detector's slowdown of several times would distort.
package fleet
