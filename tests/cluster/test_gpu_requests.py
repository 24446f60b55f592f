"""GPU-aware jobs on a Ray cluster, checked without a GPU: what an actor asks for, the GPUs a cluster counts,
and the note a job on a worker's GPU carries."""

from aeviz.cluster import connection as ray_cluster
from aeviz.training.config import TrainConfig
from aeviz.jobs.executors import JobCluster
from aeviz.cluster.jobs import CPUS_PER_JOB, RayTrainingSource, actor_resources


def config(device):
    return TrainConfig(dataset="digits", variant="linear", k=4, epochs=1.0, device=device)


def test_cuda_asks_for_a_gpu_wherever_the_cluster_has_one():
    assert actor_resources(config("cuda"), gpus=2, free_gpus=0) == {"num_cpus": CPUS_PER_JOB, "num_gpus": 1}
    assert actor_resources(config("cuda"), gpus=0, free_gpus=0)["num_gpus"] == 0  # none: the worker's CPU


def test_auto_takes_a_gpu_only_if_one_is_free_now_and_cpu_never():
    assert actor_resources(config("auto"), gpus=2, free_gpus=1)["num_gpus"] == 1
    assert actor_resources(config("auto"), gpus=2, free_gpus=0.5)["num_gpus"] == 0
    assert actor_resources(config("cpu"), gpus=4, free_gpus=4)["num_gpus"] == 0


class FakeRay:
    """ray.nodes() and ray.available_resources() of a two-node cluster with 3 GPUs, one of them free."""

    def __init__(self):
        self.nodes_list = [{"Alive": True, "Resources": {"CPU": 8.0, "GPU": 2.0}},
                           {"Alive": True, "Resources": {"CPU": 4.0, "GPU": 1.0}},
                           {"Alive": False, "Resources": {"CPU": 64.0, "GPU": 8.0}}]

    def is_initialized(self):
        return True

    def nodes(self):
        return self.nodes_list

    def available_resources(self):
        return {"CPU": 3.0, "GPU": 1.0}


def test_a_cluster_counts_its_live_gpus_and_jobs_ask_for_them(monkeypatch):
    fake = FakeRay()
    monkeypatch.setattr(ray_cluster, "connect", lambda address=None, num_cpus=None: fake)
    limits = []
    cluster = JobCluster("head:6379", set_limit=limits.append)
    on_gpu, where = cluster.source_for(config("cuda"), None, None, fallback=lambda: None)
    assert cluster.gpus == 3 and limits == [12 // CPUS_PER_JOB]  # the dead node's resources do not count
    assert on_gpu.resources["num_gpus"] == 1 and where == "on a Ray worker's GPU"
    auto, _ = cluster.source_for(config("auto"), None, None, fallback=lambda: None)
    assert auto.resources["num_gpus"] == 1  # one GPU free now
    fake.available_resources = lambda: {"CPU": 3.0}
    busy, where = cluster.source_for(config("auto"), None, None, fallback=lambda: None)
    assert busy.resources["num_gpus"] == 0 and where == "on a Ray worker"
    assert isinstance(busy, RayTrainingSource)


class RecordingRay:
    """ray.remote(**options)(cls).remote(*args), recorded."""

    def __init__(self):
        self.options, self.args = None, None

    def remote(self, **options):
        self.options = options

        def wrap(cls):
            outer = self

            class Handle:
                @staticmethod
                def remote(*args):
                    outer.args = args
                    return "actor"
            return Handle
        return wrap


def test_an_actor_without_a_gpu_trains_on_its_cpu_and_one_with_a_gpu_on_it():
    from aeviz.cluster.jobs import spawn_actor

    ray = RecordingRay()
    spawn_actor(ray, config("auto"), {"num_cpus": 1, "num_gpus": 0})
    assert ray.options["num_gpus"] == 0 and ray.args[0]["device"] == "cpu"
    spawn_actor(ray, config("auto"), {"num_cpus": 1, "num_gpus": 1})
    assert ray.options["num_gpus"] == 1 and ray.args[0]["device"] == "auto"  # the GPU Ray gave it
    spawn_actor(ray, config("cuda"), {"num_cpus": 1, "num_gpus": 1})
    assert ray.args[0]["device"] == "cuda"
