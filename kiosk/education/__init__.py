"""The education library: short plain-language articles a patient reads while waiting.

No Kivy here: the reader screen uses this package. Articles ship in assets/education
(see its README.md) and come from the practice in the "content" bundle; the bundle's
articles replace bundled ones of the same id at the same or a newer version.

    library = library_from_store(store, base_url="https://clinic.example")
    library.for_visit("new_patient", "es")        # relevant articles first
    library.get("flu-shot", "vi", fallback=True)  # English when there is no Vietnamese
    paginate(article.paragraphs, fits, article.language)

`python -m kiosk.education check` measures the reading level of every article.
"""
from .articles import Article, ArticleEntry, ArticleText, article_url
from .library import ASSETS_DIR, Library, bundled_articles, default_content_bundle, library_from_store, merge
from .loader import (
    ContentProblem, load_article_dir, load_article_dirs, parse_article_text, parse_content_bundle,
)
from .pages import paginate
from .sentences import sentences
from .topics import TOPICS, Topic, topic_by_id

__all__ = [
    "ASSETS_DIR", "TOPICS", "Article", "ArticleEntry", "ArticleText", "ContentProblem", "Library", "Topic",
    "article_url", "bundled_articles", "default_content_bundle", "library_from_store", "load_article_dir",
    "load_article_dirs", "merge", "paginate", "parse_article_text", "parse_content_bundle", "sentences",
    "topic_by_id",
]
