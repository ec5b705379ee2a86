"""global-variables, anti: the driver changes globals the tasks already captured."""

import ray

scale = 1
settings = {"offset": 0}


@ray.remote
def scaled(x):
    return x * scale  # FINDING global-variables scale


@ray.remote
def shifted(x):
    return x + settings["offset"]  # FINDING global-variables settings


def main():
    before = ray.get([scaled.remote(1), shifted.remote(1)])
    global scale
    scale = 10  # rebinding: workers keep 1
    settings["offset"] = 5  # in-place change: workers keep 0
    after = ray.get([scaled.remote(1), shifted.remote(1)])
    return before, after


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    print(main())
