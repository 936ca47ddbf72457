module github.com/pianorhythm/server

go 1.26

require (
	github.com/pianorhythm/server/api v0.0.0
	github.com/pianorhythm/server/pkg v0.0.0
	github.com/pianorhythm/server/services/analytics v0.0.0
	github.com/pianorhythm/server/services/connection v0.0.0
	github.com/pianorhythm/server/services/monitor v0.0.0
	github.com/pianorhythm/server/services/room v0.0.0
	github.com/pianorhythm/server/services/state v0.0.0
	github.com/pianorhythm/server/services/user v0.0.0
)

replace github.com/pianorhythm/server/api => ./api

replace github.com/pianorhythm/server/pkg => ./pkg

replace github.com/pianorhythm/server/services/state => ./services/state

replace github.com/pianorhythm/server/services/user => ./services/user

replace github.com/pianorhythm/server/services/room => ./services/room

replace github.com/pianorhythm/server/services/connection => ./services/connection

replace github.com/pianorhythm/server/services/analytics => ./services/analytics

replace github.com/pianorhythm/server/services/monitor => ./services/monitor
