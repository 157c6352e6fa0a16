module github.com/gpumon/gpumon/webui

go 1.26
