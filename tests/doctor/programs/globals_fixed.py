"""global-variables, fixed: the values travel as arguments."""

import ray


@ray.remote
def scaled(x, scale):
    return x * scale


@ray.remote
def shifted(x, offset):
    return x + offset


def main():
    scale, settings = 1, {"offset": 0}
    before = ray.get([scaled.remote(1, scale), shifted.remote(1, settings["offset"])])
    scale = 10
    settings["offset"] = 5
    after = ray.get([scaled.remote(1, scale), shifted.remote(1, settings["offset"])])
    return before, after


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False)
    print(main())
