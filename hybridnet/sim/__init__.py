"""The discrete-event simulation (SimPy) of the cell: ES, downlink, UE CPUs, controller.

Where the closed-form model (``hybridnet.model.objective``) gives every task
its own processor and every UE its own band, the DES makes the resources real:
an ES scheduler (dedicated, FCFS over compute units, processor sharing), a
dedicated or shared downlink, one CPU per UE, synchronous or Poisson
arrivals, and optional early hand-off of the common latent. In the paper's
configuration it reproduces the closed form exactly.
"""

from hybridnet.sim.engine import simulate_des

__all__ = ["simulate_des"]
