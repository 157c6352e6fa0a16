module github.com/gpumon/gpumon/hub

go 1.26

replace (
	github.com/gpumon/gpumon/gen => ../gen
	github.com/gpumon/gpumon/gateway => ../gateway
	github.com/gpumon/gpumon/webui => ../webui
)
