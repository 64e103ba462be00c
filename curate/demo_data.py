"""Embedded default demo corpus. Being written by the demo-data engineer (helper-9); others: do not edit."""
