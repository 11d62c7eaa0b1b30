"""Peer methods the matcher is measured against: first-come greedy sign-up and a naive CP-SAT model."""
