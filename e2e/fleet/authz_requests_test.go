package fleet_test

import (
	"time"

	pb "github.com/pianorhythm/server/api/gen/pianorhythm/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The request of each row of the authorization table for caller c, with
// whatever it needs prepared (by a service holding the key, as the edge
// would). Resources are fresh for every call, so no cell depends on
// another: a room the owner owns, with the member seated in it; accounts
// to grant roles to and ban; a message to delete.

// self is the user a caller's request is about: its own account for the
// guest, member, owner and pro; the member's for the others: other (a
// member acting on someone else's resource), the moderator and the admin
// (what staff may do to others' resources), and the anonymous.
func (s *scene) self(c who) string {
	switch c {
	case byGuest, byMember, byOwner, byPro:
		return s.id[c]
	}
	return s.id[byMember]
}

// room creates a public room of the owner with owner and member seated.
func (s *scene) room() string {
	id := s.unique("authz-room-")
	ok(s.call(byOwner, "/pianorhythm.v1.RoomService/CreateRoom", &pb.CreateRoomRequest{RoomId: id, Settings: &pb.RoomSettings{Public: proto.Bool(true)}}))
	for _, c := range []who{byOwner, byMember} {
		ok(s.call(c, "/pianorhythm.v1.RoomService/JoinRoom", &pb.JoinRoomRequest{RoomId: id, ConnectionId: s.unique("conn-"), InstanceId: "edge-1"}))
	}
	return id
}

// victim registers a fresh member account and returns its id and a
// refresh token.
func (s *scene) victim() (id, refresh string) {
	res := ok(s.call(byAnonymous, "/pianorhythm.v1.UserService/Register", &pb.RegisterRequest{Username: s.unique("authzv"), Password: authzPassword})).(*pb.AuthResponse)
	return res.GetUser().GetId(), res.GetRefreshToken()
}

func (s *scene) victimID() string { id, _ := s.victim(); return id }

// message posts a chat line of the owner in room and returns its id.
func (s *scene) message(room string) string {
	m := ok(s.call(byOwner, "/pianorhythm.v1.RoomService/SendChat", &pb.SendChatRequest{RoomId: room, Text: "to be moderated"})).(*pb.ChatMessage)
	return m.GetId()
}

// song adds a song (as the admin) and returns its id.
func (s *scene) song() string {
	sg := ok(s.call(byAdmin, "/pianorhythm.v1.AnalyticsService/CreateSong", &pb.CreateSongRequest{Song: &pb.Song{Title: s.unique("Song "), Author: "Authz"}})).(*pb.Song)
	return sg.GetId()
}

// stateRoom saves a room straight in the state service.
func (s *scene) stateRoom() string {
	id := s.unique("authz-state-room-")
	ok(s.call(byAdmin, "/pianorhythm.v1.StateService/SaveRoom", &pb.SaveRoomRequest{Room: &pb.Room{Id: id, Settings: &pb.RoomSettings{Name: proto.String(id)}}, CreateOnly: true}))
	return id
}

var minute = durationpb.New(time.Minute)

// requests has one entry per RPC of the table.
var requests = map[string]func(s *scene, c who) proto.Message{
	// --- StateService: only services call it (GetConfig is on REST).
	"StateService/GetUser": func(s *scene, c who) proto.Message { return &pb.GetUserRequest{UserId: s.id[byMember]} },
	"StateService/SaveUser": func(s *scene, c who) proto.Message {
		return &pb.SaveUserRequest{User: &pb.User{Id: s.unique("authz-su-"), DisplayName: "Saved"}}
	},
	"StateService/SetOnline": func(s *scene, c who) proto.Message {
		return &pb.SetOnlineRequest{UserId: s.unique("authz-on-"), InstanceId: "authz-instance", ConnectionId: "c1"}
	},
	"StateService/SetOffline": func(s *scene, c who) proto.Message {
		return &pb.SetOfflineRequest{UserId: s.unique("authz-off-"), ConnectionId: "c1"}
	},
	"StateService/GetPresence": func(s *scene, c who) proto.Message { return &pb.GetPresenceRequest{UserIds: []string{s.id[byMember]}} },
	"StateService/ListInstancePresence": func(s *scene, c who) proto.Message {
		return &pb.ListInstancePresenceRequest{InstanceId: "authz-instance"}
	},
	"StateService/AddUserToRoom": func(s *scene, c who) proto.Message {
		return &pb.AddUserToRoomRequest{RoomId: s.stateRoom(), Member: &pb.Member{User: &pb.User{Id: s.unique("authz-seat-")}, ConnectionId: "c1"}}
	},
	"StateService/RemoveUserFromRoom": func(s *scene, c who) proto.Message {
		return &pb.RemoveUserFromRoomRequest{RoomId: s.room(), UserId: s.id[byMember], Reason: "left"}
	},
	"StateService/GetRoom": func(s *scene, c who) proto.Message { return &pb.GetRoomRequest{RoomId: "lobby"} },
	"StateService/SaveRoom": func(s *scene, c who) proto.Message {
		return &pb.SaveRoomRequest{Room: &pb.Room{Id: s.unique("authz-sr-")}, CreateOnly: true}
	},
	"StateService/DeleteRoom":  func(s *scene, c who) proto.Message { return &pb.DeleteRoomRequest{RoomId: s.stateRoom()} },
	"StateService/ListRooms":   func(s *scene, c who) proto.Message { return &pb.ListRoomsRequest{IncludePrivate: true} },
	"StateService/RoomMembers": func(s *scene, c who) proto.Message { return &pb.RoomMembersRequest{RoomId: "lobby"} },
	"StateService/KickFromRoom": func(s *scene, c who) proto.Message {
		return &pb.KickFromRoomRequest{RoomId: s.room(), UserId: s.id[byMember], ByUserId: s.id[byOwner], Ban: minute}
	},
	"StateService/UnbanFromRoom": func(s *scene, c who) proto.Message {
		return &pb.UnbanFromRoomRequest{RoomId: s.stateRoom(), UserId: s.id[byOther]}
	},
	"StateService/SaveChatMessage": func(s *scene, c who) proto.Message {
		room := s.room()
		return &pb.SaveChatMessageRequest{Message: &pb.ChatMessage{Id: s.unique("authz-msg-"), RoomId: room, UserId: s.id[byOwner], Text: "hi", SentAt: timestamppb.Now()}}
	},
	"StateService/ChatHistory": func(s *scene, c who) proto.Message { return &pb.ChatHistoryRequest{RoomId: "lobby", Limit: 5} },
	"StateService/DeleteChatMessage": func(s *scene, c who) proto.Message {
		room := s.room()
		return &pb.DeleteChatMessageRequest{RoomId: room, MessageId: s.message(room)}
	},
	"StateService/ClearChat": func(s *scene, c who) proto.Message { return &pb.ClearChatRequest{RoomId: s.stateRoom()} },
	"StateService/SetFriendStatus": func(s *scene, c who) proto.Message {
		return &pb.SetFriendStatusRequest{UserId: s.unique("authz-fa-"), OtherId: s.unique("authz-fb-"), Status: pb.FriendStatus_OUTGOING}
	},
	"StateService/ListFriendIDs": func(s *scene, c who) proto.Message { return &pb.ListFriendIDsRequest{UserId: s.id[byMember]} },
	"StateService/GetConfig":     func(s *scene, c who) proto.Message { return &pb.GetConfigRequest{} },
	"StateService/SetConfig": func(s *scene, c who) proto.Message {
		cfg := ok(s.call(byAdmin, "/pianorhythm.v1.StateService/GetConfig", &pb.GetConfigRequest{})).(*pb.ServerConfig)
		return &pb.SetConfigRequest{Config: cfg}
	},
	"StateService/PublishRoomEvent": func(s *scene, c who) proto.Message {
		return &pb.RoomEvent{RoomId: s.stateRoom(), EventId: s.unique("authz-ev-"), At: timestamppb.Now(),
			Event: &pb.RoomEvent_ChatCleared{ChatCleared: &pb.ChatCleared{}}}
	},
	"StateService/PublishUserEvent": func(s *scene, c who) proto.Message {
		return &pb.UserEvent{UserId: s.unique("authz-ue-"), EventId: s.unique("authz-ev-"), At: timestamppb.Now(),
			Event: &pb.UserEvent_Profile{Profile: &pb.User{Id: "x"}}}
	},
	"StateService/Heartbeat": func(s *scene, c who) proto.Message {
		return &pb.HeartbeatRequest{InstanceId: s.unique("authz-instance-"), Ttl: minute}
	},
	"StateService/RestoreInstance": func(s *scene, c who) proto.Message {
		return &pb.RestoreInstanceRequest{InstanceId: s.unique("authz-instance-"), Ttl: minute}
	},
	"StateService/ListInstances": func(s *scene, c who) proto.Message { return &pb.ListInstancesRequest{} },
	"StateService/StoreRefreshToken": func(s *scene, c who) proto.Message {
		return &pb.StoreRefreshTokenRequest{TokenId: s.unique("authz-rt-"), UserId: s.unique("authz-rtu-"), FamilyId: s.unique("authz-fam-"), Ttl: minute}
	},
	"StateService/ConsumeRefreshToken": func(s *scene, c who) proto.Message {
		tok := s.unique("authz-rt-")
		ok(s.call(byAdmin, "/pianorhythm.v1.StateService/StoreRefreshToken", &pb.StoreRefreshTokenRequest{TokenId: tok, UserId: s.unique("authz-rtu-"), FamilyId: s.unique("authz-fam-"), Ttl: minute}))
		return &pb.ConsumeRefreshTokenRequest{TokenId: tok}
	},
	"StateService/RevokeTokenFamily": func(s *scene, c who) proto.Message {
		return &pb.RevokeTokenFamilyRequest{FamilyId: s.unique("authz-fam-")}
	},
	"StateService/Hit": func(s *scene, c who) proto.Message {
		return &pb.HitRequest{Key: s.unique("authz-hit-"), Limit: 5, Window: minute}
	},

	// --- UserService
	"UserService/CreateGuest": func(s *scene, c who) proto.Message { return &pb.CreateGuestRequest{} },
	"UserService/Register": func(s *scene, c who) proto.Message {
		return &pb.RegisterRequest{Username: s.unique("authzr"), Password: authzPassword}
	},
	"UserService/Login": func(s *scene, c who) proto.Message {
		return &pb.LoginRequest{Username: s.username[byMember], Password: authzPassword}
	},
	"UserService/Refresh": func(s *scene, c who) proto.Message {
		_, rt := s.victim()
		return &pb.RefreshRequest{RefreshToken: rt}
	},
	"UserService/Logout": func(s *scene, c who) proto.Message {
		_, rt := s.victim()
		return &pb.LogoutRequest{RefreshToken: rt}
	},
	"UserService/OAuthStart": func(s *scene, c who) proto.Message { return &pb.OAuthStartRequest{Provider: "discord"} },
	"UserService/OAuthCallback": func(s *scene, c who) proto.Message {
		return &pb.OAuthCallbackRequest{Provider: "discord", Code: "code", State: "state"}
	},
	"UserService/Jwks":        func(s *scene, c who) proto.Message { return &pb.JwksRequest{} },
	"UserService/VerifyToken": func(s *scene, c who) proto.Message { return &pb.VerifyTokenRequest{Token: s.tok[byMember]} },
	"UserService/Me":          func(s *scene, c who) proto.Message { return &pb.MeRequest{} },
	"UserService/GetUser":     func(s *scene, c who) proto.Message { return &pb.GetUserProfileRequest{UserId: s.id[byMember]} },
	"UserService/UpdateProfile": func(s *scene, c who) proto.Message {
		return &pb.UpdateProfileRequest{UserId: s.self(c), StatusText: proto.String("updated")}
	},
	"UserService/SearchUsers": func(s *scene, c who) proto.Message { return &pb.SearchUsersRequest{Prefix: "authz"} },
	"UserService/ValidatePermission": func(s *scene, c who) proto.Message {
		return &pb.ValidatePermissionRequest{UserId: s.self(c), Action: pb.Action_ACTION_CREATE_ROOM}
	},
	"UserService/GrantRole": func(s *scene, c who) proto.Message {
		return &pb.GrantRoleRequest{UserId: s.victimID(), Role: pb.Role_PRO}
	},
	"UserService/RevokeRole": func(s *scene, c who) proto.Message {
		id := s.victimID()
		ok(s.call(byAdmin, "/pianorhythm.v1.UserService/GrantRole", &pb.GrantRoleRequest{UserId: id, Role: pb.Role_PRO}))
		return &pb.RevokeRoleRequest{UserId: id, Role: pb.Role_PRO}
	},
	"UserService/SetBadges": func(s *scene, c who) proto.Message {
		return &pb.SetBadgesRequest{UserId: s.victimID(), Badges: []string{"early"}}
	},
	"UserService/BanAccount": func(s *scene, c who) proto.Message {
		return &pb.BanAccountRequest{UserId: s.victimID(), Duration: minute, Reason: "authz"}
	},
	"UserService/UnbanAccount": func(s *scene, c who) proto.Message {
		id := s.victimID()
		ok(s.call(byAdmin, "/pianorhythm.v1.UserService/BanAccount", &pb.BanAccountRequest{UserId: id, Duration: minute, Reason: "authz"}))
		return &pb.UnbanAccountRequest{UserId: id}
	},
	"UserService/UpdateFriend": func(s *scene, c who) proto.Message {
		return &pb.UpdateFriendRequest{UserId: s.victimID(), Action: pb.FriendAction_SEND}
	},
	"UserService/ListFriends": func(s *scene, c who) proto.Message { return &pb.ListFriendsRequest{} },
	"UserService/UpdatePresence": func(s *scene, c who) proto.Message {
		return &pb.UpdatePresenceRequest{UserId: s.self(c), Online: true, InstanceId: "authz-instance", ConnectionId: s.unique("c")}
	},

	// --- RoomService
	"RoomService/CreateRoom": func(s *scene, c who) proto.Message {
		return &pb.CreateRoomRequest{RoomId: s.unique("authz-new-"), Settings: &pb.RoomSettings{Public: proto.Bool(true)}}
	},
	"RoomService/GetRoom":   func(s *scene, c who) proto.Message { return &pb.GetRoomRequest{RoomId: s.room()} },
	"RoomService/ListRooms": func(s *scene, c who) proto.Message { return &pb.ListRoomsRequest{IncludePrivate: true} },
	"RoomService/UpdateRoomSettings": func(s *scene, c who) proto.Message {
		return &pb.UpdateRoomSettingsRequest{RoomId: s.room(), Settings: &pb.RoomSettings{WelcomeMessage: proto.String("welcome")}}
	},
	"RoomService/DeleteRoom": func(s *scene, c who) proto.Message { return &pb.DeleteRoomRequest{RoomId: s.room()} },
	"RoomService/JoinRoom": func(s *scene, c who) proto.Message {
		return &pb.JoinRoomRequest{RoomId: s.room(), ConnectionId: s.unique("conn-"), InstanceId: "edge-1"}
	},
	// The member seated in the room is made to leave: themself, or someone
	// else's seat for the others.
	"RoomService/LeaveRoom": func(s *scene, c who) proto.Message {
		return &pb.LeaveRoomRequest{RoomId: s.room(), UserId: s.id[byMember]}
	},
	"RoomService/ListMembers": func(s *scene, c who) proto.Message { return &pb.RoomMembersRequest{RoomId: s.room()} },
	"RoomService/Kick": func(s *scene, c who) proto.Message {
		return &pb.KickRequest{RoomId: s.room(), UserId: s.id[byMember], BanSeconds: 60}
	},
	"RoomService/Unban": func(s *scene, c who) proto.Message {
		room := s.room()
		ok(s.call(byOwner, "/pianorhythm.v1.RoomService/Kick", &pb.KickRequest{RoomId: room, UserId: s.id[byMember], BanSeconds: 60}))
		return &pb.UnbanFromRoomRequest{RoomId: room, UserId: s.id[byMember]}
	},
	"RoomService/TransferOwnership": func(s *scene, c who) proto.Message {
		return &pb.TransferOwnershipRequest{RoomId: s.room(), UserId: s.id[byMember]}
	},
	"RoomService/ClaimOwnership": func(s *scene, c who) proto.Message { return &pb.ClaimOwnershipRequest{RoomId: s.room()} },
	"RoomService/SendChat": func(s *scene, c who) proto.Message {
		return &pb.SendChatRequest{RoomId: s.room(), Text: "hello"}
	},
	"RoomService/ChatHistory": func(s *scene, c who) proto.Message { return &pb.ChatHistoryRequest{RoomId: s.room(), Limit: 10} },
	"RoomService/DeleteChatMessage": func(s *scene, c who) proto.Message {
		room := s.room()
		return &pb.DeleteChatMessageRequest{RoomId: room, MessageId: s.message(room)}
	},
	"RoomService/ClearChat":      func(s *scene, c who) proto.Message { return &pb.ClearChatRequest{RoomId: s.room()} },
	"RoomService/SetMaintenance": func(s *scene, c who) proto.Message { return &pb.SetMaintenanceRequest{Enabled: false} },

	// --- ConnectionService (the edge's admin API)
	"ConnectionService/ListConnections": func(s *scene, c who) proto.Message { return &pb.ListConnectionsRequest{} },
	"ConnectionService/CloseConnection": func(s *scene, c who) proto.Message {
		return &pb.CloseConnectionRequest{UserId: s.unique("authz-nobody-")}
	},
	"ConnectionService/Broadcast": func(s *scene, c who) proto.Message { return &pb.BroadcastRequest{Text: "authz broadcast"} },

	// --- AnalyticsService
	"AnalyticsService/Track": func(s *scene, c who) proto.Message {
		return &pb.TrackRequest{Event: &pb.Event{Id: s.unique("authz-event-"), Type: pb.EventType_EVENT_TYPE_NOTES, UserId: s.self(c), Count: 1, At: timestamppb.Now()}}
	},
	"AnalyticsService/EventCounts":  func(s *scene, c who) proto.Message { return &pb.EventCountsRequest{} },
	"AnalyticsService/GetUserStats": func(s *scene, c who) proto.Message { return &pb.UserStatsRequest{UserId: s.self(c)} },
	"AnalyticsService/Leaderboard": func(s *scene, c who) proto.Message {
		return &pb.LeaderboardRequest{Metric: "notes_played", Limit: 5}
	},
	"AnalyticsService/ListSongs": func(s *scene, c who) proto.Message { return &pb.ListSongsRequest{} },
	"AnalyticsService/GetSong":   func(s *scene, c who) proto.Message { return &pb.GetSongRequest{SongId: s.song()} },
	"AnalyticsService/CreateSong": func(s *scene, c who) proto.Message {
		return &pb.CreateSongRequest{Song: &pb.Song{Title: s.unique("New song "), Author: "Authz"}}
	},
	"AnalyticsService/RecordSongPlay": func(s *scene, c who) proto.Message {
		return &pb.RecordSongPlayRequest{SongId: s.song(), UserId: s.self(c)}
	},
	"AnalyticsService/FavoriteSong": func(s *scene, c who) proto.Message {
		return &pb.FavoriteSongRequest{SongId: s.song(), Favorite: true}
	},
	"AnalyticsService/TopSongs": func(s *scene, c who) proto.Message { return &pb.TopSongsRequest{Limit: 5} },
	"AnalyticsService/GetPlayerSongStats": func(s *scene, c who) proto.Message {
		return &pb.PlayerSongStatsRequest{UserId: s.self(c)}
	},
	"AnalyticsService/RecommendSongs": func(s *scene, c who) proto.Message {
		return &pb.RecommendSongsRequest{UserId: s.self(c), Limit: 3}
	},

	// --- MonitorService
	"MonitorService/Status":          func(s *scene, c who) proto.Message { return &pb.StatusRequest{} },
	"MonitorService/ReportError":     func(s *scene, c who) proto.Message { return &pb.ErrorReport{Service: "web", Message: "authz report"} },
	"MonitorService/ListErrorGroups": func(s *scene, c who) proto.Message { return &pb.ListErrorGroupsRequest{} },
	"MonitorService/RecentLogs":      func(s *scene, c who) proto.Message { return &pb.RecentLogsRequest{Limit: 5} },
	"MonitorService/ErrorRates":      func(s *scene, c who) proto.Message { return &pb.ErrorRatesRequest{} },
	"MonitorService/SetLogLevel": func(s *scene, c who) proto.Message {
		return &pb.SetLogLevelRequest{Service: "analytics", Level: "info"}
	},
	"MonitorService/ListLogLevels": func(s *scene, c who) proto.Message { return &pb.ListLogLevelsRequest{} },

	// --- DiagnosticsService (on every server; asked of the room service)
	"DiagnosticsService/GetDiagnostics": func(s *scene, c who) proto.Message { return &pb.GetDiagnosticsRequest{} },
	"DiagnosticsService/SetLogLevel":    func(s *scene, c who) proto.Message { return &pb.DiagnosticsLogLevel{Level: "info"} },
}
