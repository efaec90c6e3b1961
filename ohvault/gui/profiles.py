"""Profile dialogs: edit name, birth date and sex; delete after typing the profile's name."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from ohvault.errors import OhvaultError
from ohvault.gui.dates import OptionalDateEdit
from ohvault.gui.session import ProfileInfo, Session
from ohvault.gui.widgets import error_label, label, lay_out_form_dialog

# (shown, stored): FHIR administrative gender; the first means "not recorded".
SEXES = (
    ("Not recorded", None),
    ("Female", "female"),
    ("Male", "male"),
    ("Other", "other"),
    ("Unknown", "unknown"),
)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OhvaultError):
        return exc.message + (f" {exc.hint}" if exc.hint else "")
    return "The profile could not be saved."


class ProfileDialog(QDialog):
    """Rename a profile and set its birth date and sex; errors show in the dialog."""

    def __init__(self, parent: QWidget | None, session: Session, profile: ProfileInfo) -> None:
        super().__init__(parent)
        self.session = session
        self.profile = profile
        self.setWindowTitle("Edit profile")
        self.setAccessibleName("Edit profile")
        self.setMinimumWidth(440)
        form = QFormLayout()
        form.setSpacing(10)
        self.name = QLineEdit(profile.name)
        self.name.setAccessibleName("Name")
        form.addRow("Name *", self.name)
        self.birth_date = OptionalDateEdit("Birth date", required=False)
        self.birth_date.set_value(profile.birth_date)
        form.addRow("Birth date", self.birth_date)
        self.sex = QComboBox()
        self.sex.setAccessibleName("Sex")
        for shown, value in SEXES:
            self.sex.addItem(shown, value)
        self.sex.setCurrentIndex(max(self.sex.findData(profile.sex), 0))
        form.addRow("Sex", self.sex)
        hint = label(
            "Lab imports compare the birth date and sex printed on a report with these, and "
            "use the sex to choose between ranges printed for men and women.",
            "muted",
            wrap=True,
        )
        self.error = error_label()
        lay_out_form_dialog(self, form, hint, self.error)

    def accept(self) -> None:
        name = self.name.text().strip()
        if not name:
            self.error.setText("A profile needs a name.")
            return
        self.error.setText("")
        self.session.edit_profile(
            self.profile.id,
            name=name,
            birth_date=self.birth_date.value(),
            sex=self.sex.currentData(),
            failure=lambda exc: self.error.setText(_describe(exc)),
        ).succeeded.connect(lambda _: super(ProfileDialog, self).accept())


class DeleteProfileDialog(QDialog):
    """Deleting a profile cannot be undone, so the person types its name first."""

    def __init__(self, parent: QWidget | None, session: Session, profile: ProfileInfo) -> None:
        super().__init__(parent)
        self.session = session
        self.profile = profile
        self.setWindowTitle("Delete profile")
        self.setAccessibleName("Delete profile")
        self.setMinimumWidth(460)
        form = QFormLayout()
        warning = label(
            f"This deletes “{profile.name}” and every result, document, note, medication and "
            "other record kept for this person. It cannot be undone, and backups made earlier "
            "are the only way back.",
            wrap=True,
        )
        form.addRow(warning)
        self.typed = QLineEdit()
        self.typed.setAccessibleName("Type the profile's name to confirm")
        self.typed.setPlaceholderText(profile.name)
        form.addRow("Type the name to confirm", self.typed)
        self.error = error_label()
        lay_out_form_dialog(self, form, self.error, ok=QDialogButtonBox.StandardButton.Ok)
        box = self.findChild(QDialogButtonBox)
        assert box is not None
        self.delete_button: QPushButton = box.button(QDialogButtonBox.StandardButton.Ok)
        self.delete_button.setText("Delete profile")
        self.delete_button.setProperty("danger", True)
        self.delete_button.setEnabled(False)
        self.typed.textChanged.connect(
            lambda text: self.delete_button.setEnabled(text.strip() == profile.name)
        )

    def accept(self) -> None:
        self.session.delete_profile(
            self.profile.id,
            self.typed.text().strip(),
            failure=lambda exc: self.error.setText(_describe(exc)),
        ).succeeded.connect(lambda _: super(DeleteProfileDialog, self).accept())
