"""Peer methods the matcher is measured against: first-come greedy sign-up, naive CP-SAT."""
