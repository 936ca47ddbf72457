module github.com/pianorhythm/server/services/analytics

go 1.26
