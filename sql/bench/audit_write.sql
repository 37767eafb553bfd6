-- One audit record alone (chain-head lock, hash, insert), for benchmarks/audit.py.
SELECT alpr.write_audit('benchmark_audit_write', 'granted', NULL, NULL, %(case_number)s, 'criminal_investigation',
                        'Benchmark of the audit write path', '{"plate": "7WXB124"}', '{}', 0, '{}', '{}')
