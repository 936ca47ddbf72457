// Package statesvc is the state service (PianoRhythmState): the gRPC
// StateService over Redis (live state) and MongoDB (what must last). It is
// the only owner of the service's Redis keys; see the module README for the
// key layout, validation rules and recovery after a Redis flush.
//
//	svc, err := statesvc.New(statesvc.Config{}, statesvc.Deps{Redis: rdb, Mongo: db})
//	svc.Register(grpcServer)
//	defer svc.Close(ctx)
package statesvc
