"""Answer quality for analysts: question sets, runs, metrics and reports over the same kb the service uses; and benchmarks."""
