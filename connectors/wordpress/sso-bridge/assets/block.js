/* sso-bridge: the editor side of the `sso-bridge/embed` block (rendered on the server). */
;(function (wp) {
  'use strict'
  if (!wp || !wp.blocks) return
  var el = wp.element.createElement
  var TextControl = wp.components.TextControl
  var PanelBody = wp.components.PanelBody
  var InspectorControls = wp.blockEditor.InspectorControls
  var useBlockProps = wp.blockEditor.useBlockProps
  var ServerSideRender = wp.serverSideRender

  wp.blocks.registerBlockType('sso-bridge/embed', {
    apiVersion: 2,
    title: 'sso-bridge embed',
    description: "A chat or community platform's embed for the signed-in member.",
    category: 'embed',
    icon: 'format-chat',
    attributes: {
      integration: { type: 'string', default: '' },
      label: { type: 'string', default: '' },
    },
    edit: function (props) {
      var attrs = props.attributes
      return el(
        'div',
        useBlockProps(),
        el(
          InspectorControls,
          null,
          el(
            PanelBody,
            { title: 'sso-bridge' },
            el(TextControl, {
              label: 'Integration ID',
              value: attrs.integration,
              onChange: function (v) {
                props.setAttributes({ integration: v })
              },
            }),
            el(TextControl, {
              label: 'Link text (MeltingSpot)',
              value: attrs.label,
              onChange: function (v) {
                props.setAttributes({ label: v })
              },
            }),
          ),
        ),
        el(ServerSideRender, { block: 'sso-bridge/embed', attributes: attrs }),
      )
    },
    save: function () {
      return null
    },
  })
})(window.wp)
