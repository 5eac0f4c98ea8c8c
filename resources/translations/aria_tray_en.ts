<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="en">
<context>
    <name>AddDialog</name>
    <message numerus="yes">
        <location filename="../../desktop/add_dialog.py" line="+242" />
        <location line="+5" />
        <source>%n link(s) ready</source>
        <translation><numerusform>%n link ready</numerusform><numerusform>%n links ready</numerusform></translation>
    </message>
    <message numerus="yes">
        <location line="-4" />
        <source>%n line(s) with problems</source>
        <translation><numerusform>%n line with problems</numerusform><numerusform>%n lines with problems</numerusform></translation>
    </message>
    <message numerus="yes">
        <location line="+86" />
        <source>Added %n download(s). These lines were not added:</source>
        <translation><numerusform>Added %n download. These lines were not added:</numerusform><numerusform>Added %n downloads. These lines were not added:</numerusform></translation>
    </message>
</context>
<context>
    <name>DropHandler</name>
    <message numerus="yes">
        <location filename="../../desktop/drop_handling.py" line="+128" />
        <source>… and %n more</source>
        <translation><numerusform>… and %n more</numerusform><numerusform>… and %n more</numerusform></translation>
    </message>
    <message numerus="yes">
        <location line="+2" />
        <source>%n item(s) not added</source>
        <translation><numerusform>%n item not added</numerusform><numerusform>%n items not added</numerusform></translation>
    </message>
</context>
<context>
    <name>Notifier</name>
    <message numerus="yes">
        <location filename="../../desktop/notifications.py" line="+75" />
        <location line="+40" />
        <source>… and %n more</source>
        <translation><numerusform>… and %n more</numerusform><numerusform>… and %n more</numerusform></translation>
    </message>
    <message numerus="yes">
        <location line="-37" />
        <source>%n downloaded</source>
        <translation><numerusform>%n downloaded</numerusform><numerusform>%n downloaded</numerusform></translation>
    </message>
    <message numerus="yes">
        <location line="+1" />
        <source>%n failed</source>
        <translation><numerusform>%n failed</numerusform><numerusform>%n failed</numerusform></translation>
    </message>
    <message numerus="yes">
        <location line="+6" />
        <source>%n downloads failed</source>
        <translation><numerusform>%n downloads failed</numerusform><numerusform>%n downloads failed</numerusform></translation>
    </message>
    <message numerus="yes">
        <location line="+6" />
        <source>%n downloads complete</source>
        <translation><numerusform>%n downloads complete</numerusform><numerusform>%n downloads complete</numerusform></translation>
    </message>
    <message numerus="yes">
        <location line="+29" />
        <source>%n downloads complete, now seeding</source>
        <translation><numerusform>%n downloads complete, now seeding</numerusform><numerusform>%n downloads complete, now seeding</numerusform></translation>
    </message>
</context>
<context>
    <name>WindowActions</name>
    <message numerus="yes">
        <location filename="../../desktop/window_actions.py" line="+170" />
        <source>Remove download(s)</source>
        <translation><numerusform>Remove download</numerusform><numerusform>Remove downloads</numerusform></translation>
    </message>
    <message numerus="yes">
        <location line="+5" />
        <source>Remove these %n downloads from the list?</source>
        <translation><numerusform>Remove these %n downloads from the list?</numerusform><numerusform>Remove these %n downloads from the list?</numerusform></translation>
    </message>
    <message numerus="yes">
        <location line="+3" />
        <source>… and %n more</source>
        <translation><numerusform>… and %n more</numerusform><numerusform>… and %n more</numerusform></translation>
    </message>
    <message numerus="yes">
        <location line="+47" />
        <source>Copied %n link(s).</source>
        <translation><numerusform>Copied %n link.</numerusform><numerusform>Copied %n links.</numerusform></translation>
    </message>
</context>
</TS>