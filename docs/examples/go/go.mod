module nsenter.example/goinit

go 1.19
