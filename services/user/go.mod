module github.com/pianorhythm/server/services/user

go 1.26

require (
	github.com/pianorhythm/server/api v0.0.0
	github.com/pianorhythm/server/pkg v0.0.0
)

replace github.com/pianorhythm/server/api => ../../api

replace github.com/pianorhythm/server/pkg => ../../pkg
