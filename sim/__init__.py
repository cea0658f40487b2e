"""pdsim: an agent-based model of preventive diplomacy (UN S/2011/552, 'Delivering Results')."""

__version__ = "0.1.0"
