package mpp

import (
	"errors"
	"fmt"
	"strings"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
)

// Error is why one MPP message, or a whole frame, was refused. Its Reason
// is written for people: it is the text of the notification the client
// gets.
type Error struct {
	// Message is the MPP message name ("n", "ch"); "" for the frame.
	Message string
	Reason  string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "mpp frame: " + e.Reason
	}
	return fmt.Sprintf("mpp %q: %s", e.Message, e.Reason)
}

func refuse(message, format string, args ...any) *Error {
	return &Error{Message: message, Reason: fmt.Sprintf(format, args...)}
}

// notificationMs is how long MPP clients show our notifications.
const notificationMs = 7000

type notificationOut struct {
	M        string `json:"m"`
	Title    string `json:"title,omitempty"`
	Text     string `json:"text"`
	Duration int    `json:"duration"`
}

func notification(title, text string) notificationOut {
	return notificationOut{M: "notification", Title: title, Text: text, Duration: notificationMs}
}

// refusedNotification is the one notification for the refusals in err
// (an *Error, or several joined).
func refusedNotification(err error) notificationOut {
	var reasons []string
	var walk func(error)
	walk = func(err error) {
		if m, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range m.Unwrap() {
				walk(e)
			}
			return
		}
		var me *Error
		switch {
		case errors.As(err, &me) && me.Message != "":
			reasons = append(reasons, me.Message+": "+me.Reason)
		case errors.As(err, &me):
			reasons = append(reasons, me.Reason)
		case err != nil:
			reasons = append(reasons, err.Error())
		}
	}
	walk(err)
	return notification("Refused", strings.Join(reasons, "; "))
}

// errorTitles are the notification titles of our error codes; a code not
// here is shown as "Notice".
var errorTitles = map[pb.ErrorReason]string{
	pb.ErrorReason_INVALID_ARGUMENT:    "Refused",
	pb.ErrorReason_NOT_FOUND:           "Not found",
	pb.ErrorReason_PERMISSION_DENIED:   "Not allowed",
	pb.ErrorReason_UNAUTHENTICATED:     "Not signed in",
	pb.ErrorReason_RATE_LIMITED:        "Slow down",
	pb.ErrorReason_UNAVAILABLE:         "Try again",
	pb.ErrorReason_INTERNAL:            "Server error",
	pb.ErrorReason_ROOM_FULL:           "Channel full",
	pb.ErrorReason_WRONG_PASSWORD:      "Password required",
	pb.ErrorReason_BANNED:              "Banned",
	pb.ErrorReason_PRO_ONLY:            "Pro members only",
	pb.ErrorReason_GUESTS_NOT_ALLOWED:  "Members only",
	pb.ErrorReason_MAINTENANCE:         "Maintenance",
	pb.ErrorReason_NOT_IN_ROOM:         "Not in a channel",
	pb.ErrorReason_FAILED_PRECONDITION: "Refused",
	pb.ErrorReason_LOCKED_OUT:          "Locked out",
}

// errorNotification is the MPP form of our error reply: the code as a
// title, what failed (from the echoed id, the MPP message name) and why.
func errorNotification(id string, e *pb.Error) notificationOut {
	title, ok := errorTitles[pb.ErrorReason(pb.ErrorReason_value[e.GetCode()])]
	if !ok {
		title = "Notice"
	}
	text := e.GetMessage()
	if what := messages[id].action; what != "" {
		text = "Could not " + what + ": " + text
	}
	return notification(title, text)
}
