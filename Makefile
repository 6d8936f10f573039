.PHONY: run test lint format bench migrations-check cluster soak

run:            ## set up and start the console with demo data (web + queue worker)
	scripts/demo

test:           ## set up and run the whole suite on PostgreSQL and SQLite
	scripts/test

cluster:        ## 2 web nodes + 2 queue workers on Redis behind nginx, demo data (docs/deploy.md)
	scripts/cluster --seed

soak:           ## 10 minutes of ingest and users against a running `make cluster`
	.venv/bin/python bench/soak.py

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports

format:
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

migrations-check:
	DJANGO_SETTINGS_MODULE=tests.settings .venv/bin/python manage.py makemigrations --check --dry-run

bench:          ## benchmarks against PostgreSQL; they print their figures
	scripts/setup-system.sh
	scripts/setup-python.sh dev
	.venv/bin/python bench/ingest.py
	.venv/bin/python bench/inbox.py
	.venv/bin/python bench/sla.py
	.venv/bin/python bench/portfolio.py
	.venv/bin/python bench/alerts.py
	.venv/bin/python bench/report.py
