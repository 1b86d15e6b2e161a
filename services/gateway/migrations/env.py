from eoffice.migrate import run_env

run_env()
