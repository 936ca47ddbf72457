module github.com/pianorhythm/server/services/user

go 1.26
