module github.com/pianorhythm/server/services/connection

go 1.26
