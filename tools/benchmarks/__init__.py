"""What a request costs: the hop against its floors, the load run, slow clients (`make bench`)."""
