module github.com/pianorhythm/server/services/monitor

go 1.26
