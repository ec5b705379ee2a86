"""tree-of-actors, by hand (the handbook's code): a supervisor actor owns its trainers."""

import ray


# num_cpus=0 only so that the example fits on a 2-CPU laptop; real trainers take CPUs
@ray.remote(num_cpus=0)
class Trainer:
    def __init__(self, hyperparameter):
        self.hyperparameter = hyperparameter

    def fit(self, data):
        return data * self.hyperparameter


@ray.remote(num_cpus=0)
class Supervisor:
    def __init__(self, hyperparameter, data):
        self.data = data
        # created here, so owned here: they die when the supervisor dies
        self.trainers = [Trainer.remote(hyperparameter) for _ in data]

    def fit(self):
        refs = [t.fit.remote(d) for t, d in zip(self.trainers, self.data, strict=True)]
        return ray.get(refs)


def main(hyperparameters=(1, 2), data=(1, 2, 3)):
    supervisors = {h: Supervisor.remote(h, list(data)) for h in hyperparameters}
    # one call per supervisor fans out to all of its trainers
    refs = {h: s.fit.remote() for h, s in supervisors.items()}
    results = ray.get(list(refs.values()))  # one wait for every tree
    return dict(zip(refs, results, strict=True))


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
