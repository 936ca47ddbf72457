// messages.js: the server's refusals as sentences for people. The server
// sends a reason code (pb.ErrorReason) and a message for developers; the
// page shows one sentence per code, in the words of what the user tried.

// localTime formats the first RFC 3339 time in text (a ban's end, say) in
// the user's time zone, or returns ''.
export function localTime(text) {
  const m = /\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)/.exec(text || '');
  if (!m) return '';
  const d = new Date(m[0]);
  if (Number.isNaN(d.getTime())) return '';
  const sameDay = d.toDateString() === new Date().toDateString();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return sameDay ? time : `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

// joinRefusal is the sentence for a refused join of the room called name.
export function joinRefusal(code, message, name) {
  const room = `\u201c${name}\u201d`;
  switch (code) {
    case 'ROOM_FULL': return `${room} is full. Try again later or pick another room.`;
    case 'BANNED': {
      const until = localTime(message);
      return until ? `You are banned from ${room} until ${until}.` : `You are banned from ${room}.`;
    }
    case 'PRO_ONLY': return `${room} is for Pro members only.`;
    case 'GUESTS_NOT_ALLOWED': return `${room} does not admit guests: log in to join it.`;
    case 'NOT_FOUND': return `There is no room ${room}.`;
    case 'RATE_LIMITED': return 'You are switching rooms too quickly. Wait a moment, then try again.';
    case 'INVALID_ARGUMENT': return `${room} cannot be joined: its name or settings are not valid.`;
    case 'PERMISSION_DENIED': return `You may not join ${room}.`;
  }
  return refusal(code, 'join');
}

// refusal is the sentence for a refused request of kind (the request kinds
// of actions.js: chat, friendAct, kick, transfer, profile, ...).
export function refusal(code, kind) {
  switch (code) {
    case 'RATE_LIMITED':
      if (kind === 'chat') return 'You are chatting too fast. Wait a moment before the next message.';
      return 'That was too many requests at once. Wait a moment, then try again.';
    case 'PERMISSION_DENIED':
      if (kind === 'chat') return 'Only the room owner may chat in this room.';
      if (kind === 'kick' || kind === 'transfer') return 'Only the room owner may do that.';
      return 'You are not allowed to do that here.';
    case 'INVALID_ARGUMENT':
      if (kind === 'friendAct') return 'That user cannot be added as a friend.';
      if (kind === 'chat') return 'That message cannot be sent (too long or empty).';
      if (kind === 'profile') return 'That name or color is not accepted.';
      return 'That request was not accepted.';
    case 'NOT_FOUND':
      if (kind === 'friendAct') return 'There is no user with that id.';
      return 'That no longer exists.';
    case 'FAILED_PRECONDITION':
      if (kind === 'friendAct') return 'That friend request is no longer open.';
      return 'That cannot be done right now.';
    case 'GUESTS_NOT_ALLOWED':
    case 'UNAUTHENTICATED': return 'Log in to do that.';
    case 'NOT_IN_ROOM': return 'You are not in a room yet.';
    case 'BANNED': return 'You are banned.';
    case 'MAINTENANCE': return 'The server is under maintenance. Try again in a few minutes.';
    case 'UNAVAILABLE': return 'The server is busy. Try again in a moment.';
    case 'ALREADY_EXISTS': return 'That already exists.';
  }
  return 'Something went wrong on the server. Try again.';
}
