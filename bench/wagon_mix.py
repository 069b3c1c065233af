"""The default Wagon mix without its checks, beside it: what checking costs (check_cost.py)."""

from loadgen import Request, task
from loadgen.scenario.bundled.wagon import ADD_RANGE, FIB_RANGE, TASK_WEIGHTS, WagonMix


class Unchecked(WagonMix):
    """The same requests, drawn the same way, with no check on their answers."""

    @task(TASK_WEIGHTS["compute_addition"])
    def compute_addition(self) -> Request:
        a = self.rng.randint(*ADD_RANGE)
        b = self.rng.randint(*ADD_RANGE)
        return Request.json("POST", "/addNumbers", {"a": a, "b": b})

    @task(TASK_WEIGHTS["compute_fib"])
    def compute_fib(self) -> Request:
        n = self.rng.randint(*FIB_RANGE)
        return Request.json("POST", "/computeFib", {"iteration": n})
