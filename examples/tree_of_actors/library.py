"""tree-of-actors, with ray-patterns: supervise() owns, fans out to and replaces workers."""

import ray

import ray_patterns as rp


class Trainer:  # a plain class: supervise() makes it an actor class once
    def __init__(self, hyperparameter):
        self.hyperparameter = hyperparameter

    def fit(self, data):
        return data * self.hyperparameter


def main(hyperparameters=(1, 2), data=(1, 2, 3)):
    supervisors = {
        # num_cpus=0 only so that the example fits on a 2-CPU laptop
        h: rp.supervise(Trainer, len(data), h, worker_options={"num_cpus": 0})
        for h in hyperparameters
    }
    # scatter: items spread over the workers, results in input order; a worker that
    # dies mid-call is replaced and the call retried
    refs = {h: s.scatter.remote("fit", list(data)) for h, s in supervisors.items()}
    results = ray.get(list(refs.values()))  # one wait for every tree
    return dict(zip(refs, results, strict=True))


if __name__ == "__main__":
    print(main())
