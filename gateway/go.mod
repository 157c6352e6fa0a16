module github.com/gpumon/gpumon/gateway

go 1.26.0

replace (
	github.com/gpumon/gpumon/common => ../common
	github.com/gpumon/gpumon/gen => ../gen
)

require (
	github.com/gpumon/gpumon/common v0.0.0-00010101000000-000000000000
	github.com/gpumon/gpumon/gen v0.0.0-00010101000000-000000000000
	github.com/grpc-ecosystem/grpc-gateway/v2 v2.33.0
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261110000943-09e21b237f2c
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)

require (
	golang.org/x/net v0.61.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20261026165753-2ffab32bce7e // indirect
)
