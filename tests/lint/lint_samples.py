"""Sample sources shared by the lint tests."""

RAY_GET_LOOP = "import ray\n\nfor i in range(3):\n    ray.get(f.remote(i))\n"
