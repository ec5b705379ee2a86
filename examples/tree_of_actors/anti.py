"""tree-of-actors, without the pattern: the driver creates, tracks and calls every worker."""

import ray


# num_cpus=0 only so that the example fits on a 2-CPU laptop; real trainers take CPUs
@ray.remote(num_cpus=0)
class Trainer:
    def __init__(self, hyperparameter):
        self.hyperparameter = hyperparameter

    def fit(self, data):
        return data * self.hyperparameter


def main(hyperparameters=(1, 2), data=(1, 2, 3)):
    # one flat list of handles per experiment, kept and post-processed by the driver
    trainers = {h: [Trainer.remote(h) for _ in data] for h in hyperparameters}
    results = {}
    for h, group in trainers.items():
        results[h] = ray.get([t.fit.remote(d) for t, d in zip(group, data, strict=True)])
    return results


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main())
