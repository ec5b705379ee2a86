"""out-of-band-object-ref-serialization, anti-pattern: an ObjectRef pickled by hand."""

import pickle

import ray


@ray.remote
def read(blob, timeout):
    ref = pickle.loads(blob)  # Ray could not see this ref travel ...
    return ray.get(ref, timeout=timeout)  # ... and freed its object: this waits forever


def main(n=3, timeout=30.0):
    # the bytes are all that is left of each ref: Ray counts no reference, so the
    # objects are freed as soon as the refs go out of scope, right here
    blobs = [pickle.dumps(ray.put(list(range(i + 1)))) for i in range(n)]
    refs = [read.remote(blob, timeout) for blob in blobs]
    results = []
    for ref in refs:
        try:
            results.append(ray.get(ref))
        except ray.exceptions.GetTimeoutError:  # the task's timeout: the value is lost
            results.append(None)
    return results


if __name__ == "__main__":
    if not ray.is_initialized():
        ray.init()
    print(main(timeout=5.0))
