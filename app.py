from optintel import create_app

app = create_app()
