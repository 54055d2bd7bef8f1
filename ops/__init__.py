"""Operations: the database roles the application runs with, and backup and
restore of the database together with the evidence files.

It sits at the top of the layers, beside `config/`: it reads the audit chain
and the evidence documents to prove a restore whole, and nothing imports it.
"""
