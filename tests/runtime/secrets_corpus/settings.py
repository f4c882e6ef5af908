"""Django settings for the shop project."""

import os

SECRET_KEY = "django-insecure-k9#vz2@lq8!m4p$w7^r1&t6*y3(u0)x5+n"
DEBUG = os.environ.get("DEBUG", "0") == "1"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "shop",
        "PASSWORD": "Pg!s3cr3t-Wh4le#2024",
        "HOST": "localhost",
    }
}

GOOGLE_MAPS_API_KEY = "AIzaSyD8fK3mZq9Lr2Wx7Vb4Nc1Ht6Jg0Pe5Uo_y"
GITHUB_TOKEN = "ghp_R4nD0mG1tHubT0k3nV4lu3Xy9Zq8Wp7Lk6Mn5B"
MONGO_URI = "mongodb+srv://shop:M0ng0Atl4s_pw@cluster0.ab1cd.mongodb.net/shop"
CACHES = {"default": {"LOCATION": "redis://:r3d1sP4ssw0rdX@cache:6379/0"}}
SESSION_SIGNING_KEY = "f3a9c1d7e5b2a8c4d6e0f1a3b5c7d9e2"


def auth_header() -> dict[str, str]:
    return {"Authorization": "Bearer bRr7Qz2Lm9Xv4Kp8Wn3Ys6Ht1Jd5Fg0A"}
