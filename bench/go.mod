module github.com/gpumon/gpumon/bench

go 1.26
