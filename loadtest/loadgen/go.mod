module github.com/eta-suite/loadgen

go 1.22
